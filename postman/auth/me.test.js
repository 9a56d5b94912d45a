const user = pm.response.json();
pm.test('Returns the logged-in user', function () {
    pm.expect(user.id).to.eql(Number(pm.collectionVariables.get('user_id')));
    pm.expect(user.username).to.eql(pm.collectionVariables.get('username'));
    pm.expect(user.email).to.eql(pm.collectionVariables.get('email'));
    pm.expect(user.is_active).to.eql(true);
});
