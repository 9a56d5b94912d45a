const body = pm.response.json();
pm.test('Returns a bearer token', function () {
    pm.expect(body.token_type).to.eql('bearer');
    pm.expect(body.access_token).to.be.a('string');
    pm.expect(body.access_token.split('.')).to.have.lengthOf(3);
});
pm.collectionVariables.set('token', body.access_token);
