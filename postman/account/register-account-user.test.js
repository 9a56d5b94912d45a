const user = pm.response.json();
pm.test('Returns the new user', function () {
    pm.expect(user.id).to.be.a('number');
    pm.expect(user.username).to.eql(pm.collectionVariables.get('account_username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('account_email'));
    pm.expect(user.is_active).to.eql(true);
});
pm.collectionVariables.set('account_user_id', user.id);
