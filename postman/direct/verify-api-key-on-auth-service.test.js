pm.test('The key names its user', function () {
    const body = pm.response.json();
    pm.expect(body).to.have.all.keys('valid', 'id', 'username', 'email');
    pm.expect(body.id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
});
