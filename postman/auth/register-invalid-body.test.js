pm.test('Names the invalid field(s)', function () {
    const errors = pm.response.json().detail;
    pm.expect(errors).to.be.an('array').that.is.not.empty;
    const fields = errors.map(function (error) { return error.loc[error.loc.length - 1]; });
    pm.expect(fields).to.include.members(['username', 'email', 'password']);
});
