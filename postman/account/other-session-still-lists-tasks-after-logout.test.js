pm.test('Status code is 200', function () {
    pm.response.to.have.status(200);
});

pm.test('An empty list', function () {
    pm.expect(pm.response.json()).to.eql([]);
});
