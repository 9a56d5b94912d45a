pm.test('Status code is 400', function () {
    pm.response.to.have.status(400);
});

pm.test('Says why: "Current password is incorrect"', function () {
    pm.expect(pm.response.json().detail).to.eql('Current password is incorrect');
});
