pm.test('Says a key cannot do this', function () {
    pm.expect(pm.response.json().detail).to.include('An API key cannot create API keys');
});
