pm.test('No body', function () {
    pm.expect(pm.response.text()).to.eql('');
});
pm.collectionVariables.set('account_old_token', pm.collectionVariables.get('account_token'));
