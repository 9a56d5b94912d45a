pm.test('Empty list, total 0', function () {
    pm.expect(pm.response.json()).to.eql([]);
    pm.response.to.have.header('X-Total-Count', '0');
});
