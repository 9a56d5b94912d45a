pm.test('Returns the user\'s task list', function () {
    pm.expect(pm.response.json()).to.be.an('array');
    pm.expect(pm.response.headers.get('X-Total-Count')).to.match(/^\d+$/);
});
