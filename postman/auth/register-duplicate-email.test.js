pm.test('Says why: "Email already registered"', function () {
    pm.expect(pm.response.json().detail).to.eql('Email already registered');
});
