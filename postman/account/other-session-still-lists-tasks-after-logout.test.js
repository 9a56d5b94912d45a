pm.test('An empty list', function () {
    pm.expect(pm.response.json()).to.eql([]);
});
