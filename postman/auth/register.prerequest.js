// A fresh user on every run, so the collection can run again and again against the same databases.
const suffix = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
pm.collectionVariables.set('username', 'postman_' + suffix);
pm.collectionVariables.set('email', 'postman_' + suffix + '@example.com');
pm.collectionVariables.set('password', 'securepassword123');
