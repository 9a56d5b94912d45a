pm.test('Status code is 422', function () {
    pm.response.to.have.status(422);
});

pm.test('Validation error details', function () {
    pm.expect(pm.response.json().detail).to.be.an('array').that.is.not.empty;
});
