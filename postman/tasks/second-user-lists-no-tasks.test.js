pm.test('Status code is 200', function () {
    pm.response.to.have.status(200);
});

pm.test('Empty list, total 0', function () {
    pm.expect(pm.response.json()).to.eql([]);
    pm.response.to.have.header('X-Total-Count', '0');
});
