pm.test('Returns a bearer token', function () {
    const body = pm.response.json();
    pm.expect(body.token_type).to.eql('bearer');
    pm.expect(body.access_token).to.be.a('string').and.not.empty;
});
