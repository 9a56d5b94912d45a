const user = expectRegistered({ username: 'username', email: 'email' });
pm.collectionVariables.set('user_id', user.id);
