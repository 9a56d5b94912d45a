pm.test('Status code is 409', function () {
    pm.response.to.have.status(409);
});

pm.test('Says why: "Email already registered"', function () {
    pm.expect(pm.response.json().detail).to.eql('Email already registered');
});
