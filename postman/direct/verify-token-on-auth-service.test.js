pm.test('Token is valid and names its user', function () {
    const body = pm.response.json();
    pm.expect(body).to.have.all.keys('valid', 'id', 'username', 'email');
    pm.expect(body.valid).to.eql(true);
    pm.expect(body.id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
    pm.expect(body.username).to.eql(pm.collectionVariables.get('direct_username'));
    pm.expect(body.email).to.eql(pm.collectionVariables.get('direct_email'));
});
