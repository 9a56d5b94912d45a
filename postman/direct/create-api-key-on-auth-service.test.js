const body = pm.response.json();
pm.test('Returns the key once', function () {
    pm.expect(body).to.have.all.keys('id', 'name', 'key', 'prefix', 'created_at');
    pm.expect(body.name).to.eql('postman direct');
});
pm.collectionVariables.set('direct_api_key', body.key);
pm.collectionVariables.set('direct_api_key_id', body.id);
