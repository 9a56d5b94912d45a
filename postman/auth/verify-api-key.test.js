pm.test('The key is valid and names its user', function () {
    const body = pm.response.json();
    pm.expect(body.valid).to.eql(true);
    pm.expect(body.id).to.eql(Number(pm.collectionVariables.get('user_id')));
    pm.expect(body.username).to.eql(pm.collectionVariables.get('username'));
});
