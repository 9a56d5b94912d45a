pm.test('Names the new password', function () {
    const errors = pm.response.json().detail;
    pm.expect(errors).to.be.an('array');
    pm.expect(errors.some(function (e) { return e.loc.includes('new_password'); })).to.eql(true);
});
