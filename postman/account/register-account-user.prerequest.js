// A fresh user on every run, so the collection can run again and again against the same databases.
const suffix = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
pm.collectionVariables.set('account_suffix', suffix);
pm.collectionVariables.set('account_username', 'postman_acct_' + suffix);
pm.collectionVariables.set('account_email', 'postman_acct_' + suffix + '@example.com');
pm.collectionVariables.set('account_password', 'securepassword123');
