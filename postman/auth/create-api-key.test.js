const body = pm.response.json();
pm.test('Returns the key once, with its prefix', function () {
    pm.expect(body).to.have.all.keys('id', 'name', 'key', 'prefix', 'created_at');
    pm.expect(body.name).to.eql('postman');
    pm.expect(body.prefix).to.match(/^tm_[0-9a-f]{8}$/);
    pm.expect(body.key.startsWith(body.prefix + '_')).to.eql(true);
});
pm.collectionVariables.set('api_key', body.key);
pm.collectionVariables.set('api_key_id', body.id);
