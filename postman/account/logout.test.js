pm.test('No body', function () {
    pm.expect(pm.response.text()).to.eql('');
});
