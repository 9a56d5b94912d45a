pm.collectionVariables.set('account_new_password', 'anotherpassword456');
