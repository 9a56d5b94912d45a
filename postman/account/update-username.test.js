const user = pm.response.json();
pm.test('Returns the user with the new values', function () {
    pm.expect(user).to.have.all.keys('id', 'username', 'email', 'is_active');
    pm.expect(user.id).to.eql(Number(pm.collectionVariables.get('account_user_id')));
    pm.expect(user.username).to.eql(pm.collectionVariables.get('account_new_username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('account_email'));
    pm.expect(user.is_active).to.eql(true);
});
