pm.test('Names the field it refuses', function () {
    const errors = pm.response.json().detail;
    pm.expect(errors).to.be.an('array');
    pm.expect(errors.some(function (e) { return e.loc.includes('is_active'); })).to.eql(true);
});
