const user = pm.response.json();
pm.test('Returns the logged-in user', function () {
    pm.expect(user.id).to.eql(Number(pm.collectionVariables.get('direct_user_id')));
    pm.expect(user.username).to.eql(pm.collectionVariables.get('direct_username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('direct_email'));
    pm.expect(user.is_active).to.eql(true);
});
