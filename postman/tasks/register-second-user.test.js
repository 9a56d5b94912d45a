const user = expectRegistered({ username: 'other_username', email: 'other_email' });
pm.collectionVariables.set('other_user_id', user.id);
