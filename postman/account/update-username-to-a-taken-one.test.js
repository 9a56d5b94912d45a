pm.test('Says why: "Username already registered"', function () {
    pm.expect(pm.response.json().detail).to.eql('Username already registered');
});
