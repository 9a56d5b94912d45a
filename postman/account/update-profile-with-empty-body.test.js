pm.test('Validation error details', function () {
    pm.expect(pm.response.json().detail).to.be.an('array').that.is.not.empty;
});
