const user = expectRegistered({ username: 'direct_username', email: 'direct_email' });
pm.collectionVariables.set('direct_user_id', user.id);
