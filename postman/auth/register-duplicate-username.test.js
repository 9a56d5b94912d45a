pm.test('Status code is 409', function () {
    pm.response.to.have.status(409);
});

pm.test('Says why: "Username already registered"', function () {
    pm.expect(pm.response.json().detail).to.eql('Username already registered');
});
