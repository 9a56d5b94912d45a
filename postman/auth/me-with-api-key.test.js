pm.test('Returns the key\'s user', function () {
    pm.expect(pm.response.json().id).to.eql(Number(pm.collectionVariables.get('user_id')));
});
