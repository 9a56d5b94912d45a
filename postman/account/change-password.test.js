expectNoBody();
pm.collectionVariables.set('account_old_token', pm.collectionVariables.get('account_token'));
