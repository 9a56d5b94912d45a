pm.test('Status code is 200', function () {
    pm.response.to.have.status(200);
});

pm.test('Returns a task list', function () {
    pm.expect(pm.response.json()).to.be.an('array');
});
