pm.collectionVariables.set('direct_new_password', 'anotherpassword456');
