const user = pm.response.json();
pm.test('Returns the new user', function () {
    pm.expect(user.id).to.be.a('number');
    pm.expect(user.username).to.eql(pm.collectionVariables.get('other_username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('other_email'));
    pm.expect(user.is_active).to.eql(true);
});
pm.test('Never returns the password', function () {
    pm.expect(user).to.not.have.any.keys('password', 'hashed_password');
});
pm.collectionVariables.set('other_user_id', user.id);
