pm.test('Says why: "Incorrect username or password"', function () {
    pm.expect(pm.response.json().detail).to.eql('Incorrect username or password');
});
