pm.test('Returns a task list', function () {
    pm.expect(pm.response.json()).to.be.an('array');
});
