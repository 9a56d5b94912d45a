pm.test('Status code is 200', function () {
    pm.response.to.have.status(200);
});

pm.test('Returns the key\'s user', function () {
    pm.expect(pm.response.json().id).to.eql(Number(pm.collectionVariables.get('user_id')));
});
