pm.test('Lists the key without the secret', function () {
    const keys = pm.response.json();
    pm.expect(keys.map((key) => key.id)).to.include(Number(pm.collectionVariables.get('direct_api_key_id')));
    keys.forEach((key) => pm.expect(key).to.not.have.property('key'));
});
