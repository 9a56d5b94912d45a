pm.collectionVariables.set('direct_new_username', pm.collectionVariables.get('direct_username') + '.renamed');
pm.collectionVariables.set('direct_new_email', 'renamed.' + pm.collectionVariables.get('direct_email'));
