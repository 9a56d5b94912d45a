pm.collectionVariables.set('account_new_email', 'postman_renamed_' + pm.collectionVariables.get('account_suffix') + '@example.com');
