const body = pm.response.json();
pm.test('Returns a bearer token', function () {
    pm.expect(body.token_type).to.eql('bearer');
    pm.expect(body.access_token).to.be.a('string');
    pm.expect(body.access_token.split('.')).to.have.lengthOf(3);
});
pm.test('A token of its own', function () {
    pm.expect(body.access_token).to.not.eql(pm.collectionVariables.get('account_old_token'));
});
pm.collectionVariables.set('account_token', body.access_token);
