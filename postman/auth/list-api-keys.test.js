const keys = pm.response.json();
pm.test('Lists the new key without the secret', function () {
    const listed = keys.find((key) => key.id === Number(pm.collectionVariables.get('api_key_id')));
    pm.expect(listed).to.be.an('object');
    pm.expect(listed).to.have.all.keys('id', 'name', 'prefix', 'created_at', 'last_used_at');
    pm.expect(listed.name).to.eql('postman');
    pm.expect(pm.response.text()).to.not.include(pm.collectionVariables.get('api_key'));
});
