pm.test('Status code is 204', function () {
    pm.response.to.have.status(204);
});

pm.test('No body', function () {
    pm.expect(pm.response.text()).to.eql('');
});
pm.collectionVariables.set('account_old_token', pm.collectionVariables.get('account_token'));
