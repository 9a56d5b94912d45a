pm.test('The change is kept, and the token still works', function () {
    const user = pm.response.json();
    pm.expect(user.id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
    pm.expect(user.username).to.eql(pm.collectionVariables.get('direct_username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('direct_email'));
});
