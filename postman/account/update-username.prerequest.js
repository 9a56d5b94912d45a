pm.collectionVariables.set('account_new_username', 'postman_renamed_' + pm.collectionVariables.get('account_suffix'));
