const body = pm.response.json();
pm.test('Returns a new bearer token', function () {
    pm.expect(body.token_type).to.eql('bearer');
    pm.expect(body.access_token.split('.')).to.have.lengthOf(3);
    pm.expect(body.access_token).to.not.eql(pm.collectionVariables.get('direct_token'));
});
pm.collectionVariables.set('direct_token', body.access_token);
pm.collectionVariables.set('direct_password', pm.collectionVariables.get('direct_new_password'));
