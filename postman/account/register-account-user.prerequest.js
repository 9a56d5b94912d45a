pm.collectionVariables.set('account_suffix', makeUpUser('account_', 'postman_acct_'));
