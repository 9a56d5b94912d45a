pm.test('Says why: "Current password is incorrect"', function () {
    pm.expect(pm.response.json().detail).to.eql('Current password is incorrect');
});
