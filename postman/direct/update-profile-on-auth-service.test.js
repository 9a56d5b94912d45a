const user = expectUserAnswer({ id: 'direct_user_id', username: 'direct_new_username', email: 'direct_new_email' });
if (pm.response.code === 200) {
    pm.collectionVariables.set('direct_username', user.username);
    pm.collectionVariables.set('direct_email', user.email);
}
