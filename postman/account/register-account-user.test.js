const user = expectRegistered({ username: 'account_username', email: 'account_email' });
pm.collectionVariables.set('account_user_id', user.id);
